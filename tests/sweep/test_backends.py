def test_allocator_tuning_is_applied_and_harmless() -> None:
    import platform

    from btcn.sweep.runner import tune_allocator

    applied = tune_allocator()
    if platform.libc_ver()[0] == "glibc":
        assert applied is True
    assert tune_allocator() is applied  # idempotent
