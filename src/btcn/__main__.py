from btcn.cli.app import main

main()
