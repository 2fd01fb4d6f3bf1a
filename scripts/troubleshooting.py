"""Generate the Troubleshooting section of docs/manual.md from the error messages in the code.

Every ``raise <BtcnError subclass>(message)`` in src/btcn is listed (as a template, ``…`` for the
values) with what it means and what to do. Run after adding an error:

  .venv/bin/python scripts/troubleshooting.py > /tmp/t.md   # then paste over the section

tests/docs/test_manual.py fails when a message of the code is missing from the manual.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from error_inventory import key_phrase, messages

AREAS = [
    (
        "Reading files and streams (exit 3)",
        ("cli/console.py", "contracts/", "data/inputs.py", "runtime/boundary.py"),
        "A path is wrong, a file is not what the command expects, or the previous stage of a pipe "
        "failed and sent nothing.",
    ),
    (
        "Candles, funding and signal files (exit 3)",
        ("data/",),
        "The data failed validation. btcn never guesses: fix the file (or give the right one).",
    ),
    (
        "Settings, secrets and network policy (exit 4)",
        (
            "runtime/settings.py",
            "runtime/secrets.py",
            "runtime/netguard.py",
            "exchange/credentials.py",
            "exchange/gate.py:92",
            "monitoring/telegram.py:111",
        ),
        "A settings file, an environment variable or a secret is missing or invalid.",
    ),
    (
        "Command-line usage (exit 2)",
        ("cli/", "runtime/logs.py"),
        "An option is missing, malformed, or conflicts with another.",
    ),
    (
        "Planning and weights (exit 3)",
        ("stages/plan.py", "stages/weights.py"),
        "The snapshot and the candles do not fit together.",
    ),
    (
        "Paper and live execution (exits 2, 3, 6, 7)",
        ("stages/execute.py", "exchange/live/", "core/plan_check.py"),
        "btcn refused to send, or the venue did not do what was asked. Nothing is ever sent twice: "
        "after fixing the cause, re-run the same plan.",
    ),
    (
        "Exchange and market-data connections (exit 6)",
        ("exchange/",),
        "Gate or Binance could not be reached, refused the request, or answered in an unexpected way. "
        "Reads are retried automatically; if the message persists, check the base URL, your network, "
        "the keys' permissions, and the exchange status page.",
    ),
    (
        "Fetching market data (exits 2, 3, 6)",
        ("stages/fetch.py",),
        "A `btcn fetch` option or an existing output file is not usable.",
    ),
    (
        "Backtests (exits 2, 3)",
        ("backtest/", "stages/backtest.py"),
        "The inputs of a backtest do not fit together, or a run folder is incomplete.",
    ),
    (
        "Sweeps and walk-forward (exits 2, 3, 4, 7)",
        ("sweep/", "stages/sweep.py"),
        "The grid file, the sweep options or an existing sweep folder is not usable.",
    ),
    (
        "Audit and reports (exits 3, 8)",
        ("audit/", "reports/"),
        "The run folder, the targets file or Log.xlsx cannot be used as asked.",
    ),
    (
        "Monitoring and alerts (exits 4, 6)",
        ("monitoring/",),
        "InfluxDB or Telegram is not configured, not reachable, or refused the request.",
    ),
    (
        "State store and resources (exits 3, 9)",
        ("runtime/state.py", "runtime/watchdog.py"),
        "The SQLite state store or the machine's resources stopped the command.",
    ),
    (
        "Output folders (exit 3)",
        ("runtime/folders.py",),
        "An --out/--out-dir/--run folder cannot be written as one unit, or holds files btcn did "
        "not write. btcn builds every output folder beside it and swaps it in whole, so an "
        "interrupted or failed command leaves the previous contents untouched.",
    ),
]

ADVICE = {
    # issue 17: validate, then write; paper reconcile; BTCN_* names
    "spot/perp misalignment": "Give spot and perp candles of the same span with the same bars (a walk-forward leaves such bars out and flags the windows that lack them).",
    "is not a time between 2009 and 2100 in milliseconds": "An artefact's `*_ms` times are epoch milliseconds; this one looks like seconds. Nothing was written.",
    "spot and perp candles share fewer than two bars": "Give perp candles that cover the walk-forward period.",
    "--force applies to paper execution only; a live account is always reconciled": "Drop --force: a live execution always reconciles the account first.",
    "the paper account does not match the plan's snapshot": "Plan from the paper account: `btcn fetch snapshot --venue paper --candles C \\| btcn plan --snapshot - --candles C \\| btcn execute`, or pass --force.",
    "environment variable": "A BTCN_* variable must name a setting as BTCN_<SECTION>__<KEY> (two underscores); unset it or fix its name (the message names the nearest setting).",
    "a damaged or foreign file": "Point [state] path / --state at a btcn state store or a new file; nothing was written into this one.",
    "a realise order must be a CLOSE_SHORT": "The plan was edited or built by another tool: plan again with btcn.",
    "is not plausible (its absolute value is above": "Funding rates are fractions per interval (0.0001 = 0.01 %); check the file's units.",
    # reading files
    "file not found": "Check the path (relative paths are from the current folder).",
    "is a folder, expected a file": "Give the file inside the folder.",
    "is not UTF-8 text": "Save the file as UTF-8.",
    "cannot read": "Check the file's permissions and that the disk is readable.",
    "expected JSON on stdin, but stdin is a terminal": "Pipe the previous stage into the command (`btcn plan ... | btcn execute`) or pass a file.",
    "empty input, expected a": "The previous stage of the pipe printed nothing: look at its error first.",
    "malformed JSON at line": "The file is not valid JSON; regenerate it with the stage that writes it.",
    "expected a JSON object of kind": "Give a btcn artefact (a JSON object), not a list or a value.",
    "expected kind": "You passed another stage's output (e.g. a snapshot to `execute`); pass the artefact the command names.",
    "is not supported (this btcn reads version": "The file was written by another btcn version; regenerate it with this one.",
    "not UTF-8 text": "Save the file as UTF-8.",
    "holds no .csv or .parquet files": "Point at the folder that holds the data files, or at a file or glob.",
    "no file matches": "Check the glob pattern (quote it so the shell does not expand it).",
    # data
    "unrecognised candle CSV header": "Use Binance kline CSV (headerless or with the open_time header), `date,open,high,low,close,volume`, or Parquet.",
    "the file is empty": "Re-download the file.",
    "Parquet needs an open_time (or date) column and": "Write Parquet with open_time (timestamp) and open, high, low, close, volume (as `btcn fetch candles` does).",
    "the file holds no candles": "Re-download the file.",
    "non-positive price at bar": "A price is zero or negative at that bar: the file is corrupt; re-download it.",
    "negative volume at bar": "The file is corrupt at that bar; re-download it.",
    "inconsistent OHLC (low/high do not bracket open/close) at bar": "The bar's high/low do not contain its open/close: a corrupt row; re-download the file.",
    "timestamp": "Rows must be sorted by time, one row per bar (duplicates or out-of-order rows).",
    "need at least two candles to know the bar interval": "Give more data.",
    "is off the": "A bar does not fall on the interval grid of the others: mixed intervals or a shifted file.",
    "cannot parse CSV": "The CSV is malformed at the reported place; re-download it.",
    "mixes millisecond and microsecond timestamps": "One file must use one unit; split or re-download it.",
    "microsecond open times are not whole milliseconds": "The file is not a Binance archive file; check its source.",
    "not a readable Parquet file": "The file is damaged or not Parquet; re-create it.",
    "must be a timestamp or integer milliseconds": "Store the open time as a timestamp or as integer milliseconds.",
    "at bar": "A value is missing (NaN or empty) at that bar; re-download the file.",
    "columns; expected the 12 Binance kline columns": "Use the Binance kline file as published (12 columns).",
    "a timestamp column has empty values": "Every row needs its time; re-create the file.",
    "appears twice with different values in": "Two input files disagree about one bar; drop one of the files.",
    "is not on an hourly funding slot": "Funding times must be on the hour (a few ms of jitter is fine); check the file.",
    "the funding file is empty": "Re-download the funding history.",
    "Parquet funding needs funding_time and funding_rate": "Write funding Parquet as `btcn fetch funding` does.",
    "funding rate is NaN": "A funding row has no rate; fix or drop the row.",
    "unrecognised funding header": "Use `fundingTime,fundingRate,markPrice`, `Symbol,Date,Funding Rate` or `date,funding_rate`.",
    "cannot read funding row": "The row is malformed; fix or drop it.",
    "non-positive markPrice": "The row's mark price is invalid; fix or drop it.",
    "funding: cannot read": "Check the file's permissions.",
    "appears twice with different rates": "Two funding files disagree; drop one.",
    "bad markPrice": "The mark price is not a number; fix the row.",
    "the signal file is empty": "Give at least the header `timestamp,signal`.",
    "expected the header 'timestamp,signal', got": "The first line must be `timestamp,signal`.",
    "signals: file not found": "Check the path of --signals.",
    "signals: cannot read": "Check the file's permissions.",
    "expected 'timestamp,signal": "Each row needs a time and a signal.",
    "empty signal value": "Write BUY, SELL or HOLD on that line.",
    "unknown signal": "Signals are BUY, SELL or HOLD.",
    "line": "The line is malformed (e.g. a time that cannot be read); fix it.",
    # settings / secrets / network
    "config file not found": "Check --config / $BTCN_CONFIG.",
    "cannot read config file": "Check the file's permissions.",
    "invalid TOML": "Fix the TOML syntax at the reported place.",
    "is not NAME=value": "Each line of the secrets file is `NAME=value` (or a # comment).",
    "has no name before '=": "Each line of the secrets file is `NAME=value`.",
    "is not a regular file": "Point $BTCN_SECRETS_FILE at a file.",
    "is accessible by group or others (mode": "`chmod 600` the secrets file.",
    "is not set: expected it in the": "Export the variable, or add `NAME=value` to the secrets file.",
    "secrets file not found": "Check $BTCN_SECRETS_FILE.",
    "cannot read secrets file": "Check the secrets file's owner and permissions.",
    "network test mode: look-up of": "[network] test_mode allows only the allowlist: add the host, or turn test mode off.",
    "network test mode: request to": "[network] test_mode allows only the allowlist: add the host, or turn test mode off.",
    "network test mode: connection to": "[network] test_mode allows only the allowlist: add the host, or turn test mode off.",
    "not set: live Gate calls need an API key pair": "Export GATE_API_KEY and GATE_API_SECRET (or put them in the secrets file).",
    "contains whitespace or non-ASCII characters": "Copy the key again from Gate's API management page.",
    "this Gate call needs API keys (GATE_API_KEY, GATE_API_SECRET": "Export the keys; public data needs none.",
    "telegram is not configured: [telegram] chat_id is empty": "Set [telegram] chat_id and the bot token secret, or drop --telegram/--notify.",
    # usage
    "--dry-run and --live exclude each other": "Choose one.",
    "choose one of": "Use one of the listed values.",
    "--candles/--perp are for --venue paper; gate prices are live": "Drop --candles/--perp for the gate venue.",
    "--venue must be gate or paper, got": "Use --venue gate or --venue paper.",
    "give --run DIR and/or --snapshot FILE": "Tell `monitor push` what to push.",
    "give at least one of --run, --plan, --execution, --audit, --funding": "Tell `monitor alerts` what to check.",
    "--tag must be KEY=VALUE, got": "Write tags as KEY=VALUE.",
    "--day must be YYYY-MM-DD, got": "Write the day as YYYY-MM-DD.",
    "--since": "Use a duration such as 1d or 12h.",
    "evaluations failed (see the error column of": "Some sweep points failed; the others are saved. Read the `error` column; re-run to retry the failed ones.",
    "--heatmap takes two swept keys: KEY_X,KEY_Y": "Name two swept keys separated by a comma.",
    "--log-level must be one of": "Use DEBUG, INFO, WARNING or ERROR.",
    # plan / weights
    "ms is not a multiple of the": "Make [strategy] atr_window a multiple of the candle interval (24h with 5 m candles).",
    "candles: no candle closed at or before the snapshot time": "The candles start after the snapshot: fetch candles that cover it.",
    "USDT; weights need a positive NAV": "The account (or snapshot) holds no value; check the snapshot's balances.",
    # execution
    "real orders need --live": "A gate plan is executed with --live (or simulated with --dry-run).",
    "is still open after 3 cancels": "Cancel the order in Gate's web interface, then re-run the same plan.",
    "--live sends orders to Gate, but this plan is for venue": "Build the plan from a gate snapshot (`btcn fetch snapshot --venue gate`).",
    "s old; [gate] max_plan_age is": "Make a fresh plan (or raise [gate] max_plan_age).",
    "the plan does not match Gate's trading rules": "The contract spec changed: make a fresh snapshot and plan.",
    "the Gate futures account is not in dual (hedge) mode": "Switch the USDT perpetual account to dual/hedge mode (with no open positions or orders), then re-plan.",
    "the Gate account does not match the plan": "Balances or positions changed since the snapshot (or someone traded by hand): make a fresh snapshot and plan.",
    "has no bids: cannot sell at market": "The order book is empty; wait and re-run.",
    "has no asks: cannot buy at market": "The order book is empty; wait and re-run.",
    "an order's outcome is still unknown": "Gate did not answer about an order: re-run the same plan later; it looks the order up before anything else.",
    "pre-trade check failed, no order was sent": "A leg would be rejected (balance, margin, minimum size): fix the account or the settings, then re-plan.",
    "gate answered": "Gate's batch answer did not match the request: re-run the same plan (it reconciles first).",
    "plan: two orders for leg": "The plan file was edited by hand; make a fresh plan.",
    "does not belong to leg": "The plan file was edited by hand; make a fresh plan.",
    "needs a positive quantity and limit price": "The plan file was edited by hand; make a fresh plan.",
    "batch answer out of order": "Gate's batch answer did not match the request: re-run the same plan.",
    # exchange
    "has no entry for": "Gate did not return the contract or pair: check [gate] contract / currency_pair.",
    "cannot connect": "Check the network and [gate]/[binance] base_url.",
    "no answer in time": "The venue is slow; reads were retried. Try later or raise the timeout.",
    "connection lost before the answer": "The network dropped; reads were retried, orders are looked up before any re-send. Re-run.",
    "request failed": "A network error; re-run.",
    "with a body that is not JSON": "A proxy or an outage answered instead of the API; check base_url and the venue's status.",
    "in the response": "The venue answered without a field btcn needs; re-run, report if it persists.",
    "is not finite": "The venue sent an invalid number; re-run, report if it persists.",
    "gate: spot order without an id in the response": "Unexpected answer; re-run the same plan (it reconciles by client order id).",
    "gate: futures order without id or size in the response": "Unexpected answer; re-run the same plan (it reconciles by client order id).",
    "fields, expected at least 6": "Unexpected candle format from Gate; report it.",
    "binance: kline with": "Unexpected kline format from Binance; report it.",
    "is not a number": "The venue sent an invalid number; re-run, report if it persists.",
    # fetch
    "missing column(s": "The file lacks columns btcn needs; regenerate it.",
    "unknown source": "Use one of the listed sources.",
    "does not serve interval": "Use one of the listed intervals.",
    "nothing to fetch: the window": "Move --start/--end so that at least one bar has closed.",
    "choose binance or gate": "Use --source binance or --source gate.",
    "nothing to fetch: --start is not before --end / now": "Give a --start in the past, before --end.",
    "binance: no closed spot candle returned for P_ref": "Binance returned no candle: check [binance] base_url and try again.",
    "--perp needs --candles (the spot candles give P_ref": "Add --candles with the spot candle file.",
    "unknown interval": "Use an interval such as 1m, 5m, 1h or 1d.",
    "exists but is not a readable Parquet file": "Move the damaged file away; the next fetch starts a new one.",
    "a file holds one series": "Use a different --out for each source/interval.",
    # backtest
    "s bars but spot candles are": "Give spot and perp candles of the same interval.",
    "spot bar(s) without perp": "Give spot and perp candles of the same span with the same bars.",
    "strategy.atr_window is not a multiple of the": "Make [strategy] atr_window a multiple of the candle interval.",
    "the selected period holds fewer than two bars": "Check --start/--end against the span of the candles.",
    "run folder not found": "Check --run.",
    "not a btcn run description of schema": "run.json is from another btcn version or not a backtest; re-run the backtest.",
    "is this a btcn run folder?": "A run folder needs run.json, equity.parquet, trades.parquet and open_positions.json: re-run the backtest into it.",
    "unreadable run file": "A file of the run folder is damaged; re-run the backtest.",
    "--end must be after --start": "Swap or fix the dates.",
    "--": "Write the date as YYYY-MM-DD or an ISO-8601 time.",
    # sweep
    "--workers and --scheduler exclude each other": "Choose local workers or a Dask cluster.",
    "--workers must be at least 1": "Give a positive number of workers.",
    "is a file, not a folder": "--out is the sweep folder.",
    "result(s) of another sweep (other grid, inputs, period, windows or btcn version": "Use a new --out, or --overwrite to replace the old results.",
    "is not a multiple of the": "Make the swept atr_window a multiple of the candle interval.",
    "is not a swept key": "Name keys that the grid sweeps.",
    "the cluster has no worker": "Start Dask workers for the scheduler.",
    "results would not be comparable": "Install the same btcn version on every Dask worker.",
    "--scheduler needs the Dask client, which is not installed": "pip install 'btcn[dask]'.",
    "cannot reach the Dask scheduler": "Check the scheduler address and that it is running.",
    "expected a table such as { uniform = [0.1, 0.5] }": "Write each random parameter as a distribution table.",
    "and optionally digits": "Give one distribution per parameter.",
    "takes a list": "Give a list of values.",
    "digits must be an integer from 0 to 15": "Use an integer number of digits.",
    "use [grid], [random] and [fixed": "Only these tables exist in a grid file.",
    "use samples, seed, params": "Only these keys exist under [random].",
    "random] needs samples = N (the number of draws": "Add `samples = N` under [random].",
    "random] samples must be a whole number >= 0": "Use a whole number.",
    "random] seed must be a whole number >= 0": "Use a whole number.",
    "random] samples must be at least 1": "Draw at least one sample.",
    "random.params] must be a table": "Write [random.params] as a table of distributions.",
    "no parameter to sweep; list values under [grid] or draws under [random.params": "Add a swept parameter.",
    "the sweep has": "Too many points: narrow the grid or sample it with [random].",
    "only [strategy], [fees], [guardrails], [risk] and [backtest] keys change a backtest": "Sweep only those sections' keys.",
    "is no longer used: remove it from the grid": "The backtest's PostOnly phase is always one bar: drop the key.",
    "takes [low, high] numbers": "Write the range as [low, high].",
    "needs low < high": "Swap the bounds.",
    "loguniform needs low > 0": "Use a positive lower bound.",
    "randint takes [low, high] integers": "Use integer bounds.",
    "must be a table": "Write that entry as a TOML table.",
    "expected a non-empty list of values": "List at least one value.",
    "is in both": "A key may appear in only one of [grid], [random.params] and [fixed].",
    "grid file not found": "Check --grid.",
    "cannot read grid file": "Check the grid file's permissions.",
    "unknown settings key": "Use a key of btcn.toml (see Configuration reference).",
    "and its old name": "`leverage` is given as `[risk] leverage` and under its old name `[backtest] leverage` with different values: keep `[risk] leverage` only.",
    "is listed twice": "Remove the duplicate value.",
    "fixed": "The value is invalid for that settings key: see the message and the Configuration reference.",
    "grid": "The value is invalid for that settings key: see the message and the Configuration reference.",
    "random.params": "A drawn value is invalid for that settings key: narrow the distribution.",
    "not a btcn sweep file of schema": "sweep.parquet is from another btcn version or not a sweep; use a new --out.",
    "unreadable sweep file": "sweep.parquet is damaged; use a new --out or --overwrite.",
    "is not a KPI that can rank points": "Use a KPI column of summary.csv (e.g. sharpe, roi, max_drawdown).",
    "expected TRAIN:TEST, e.g. 90d:30d": "Write the windows as TRAIN:TEST durations.",
    "both lengths must be positive": "Use positive durations.",
    "use whole seconds": "Use whole-second durations.",
    "of data, the period holds": "Give more data or shorter windows.",
    "--walk-forward": "Write the windows as TRAIN:TEST durations, e.g. 90d:30d.",
    # audit / reports
    "targets file not found": "Check --targets / [audit] targets.",
    "cannot read targets file": "Check the targets file's permissions.",
    "is not a file": "Give the workbook file, not a folder.",
    "is open in another program (lock file": "Close the workbook in LibreOffice/Excel (or remove a stale lock file), then re-run.",
    "is read-only; nothing was written": "Make the workbook writable or use another --log.",
    "cannot write beside": "btcn writes a temporary file next to the workbook: make the folder writable.",
    "is not a readable .xlsx workbook": "The workbook is damaged or not .xlsx: restore it or use another --log.",
    "of the workbook has unexpected headers": "A sheet named KPIs or Proposals belongs to someone else: rename it or use another --log.",
    "is being written by another btcn process": "Wait for the other audit to finish.",
    "the old workbook was left untouched": "Check disk space and permissions.",
    "the run has no bars on": "Choose a --day inside the run.",
    "in the run folder": "The run folder lacks a file the report needs; re-run the backtest.",
    "no rows": "The file holds no data; re-run the backtest.",
    "rows are not sorted by ts": "equity.parquet was edited; re-run the backtest.",
    "not a btcn run description": "run.json is not a btcn backtest description; re-run the backtest.",
    "not valid JSON": "run.json is damaged; re-run the backtest.",
    # live history
    "holds a backtest run, not a live history": "Record live snapshots and executions into a folder of their own.",
    "nothing to record: give a snapshot (and optionally an execution report": "Pass --snapshot (and --execution).",
    "this snapshot is for": "A history holds one venue: use another --run folder for this venue.",
    "the history has no snapshot yet: record the plan's snapshot with the execution": "Pass the plan's --snapshot together with --execution.",
    # monitoring
    "influx write failed: HTTP": "Check [influx] url, database/bucket and credentials; InfluxDB's answer is shown.",
    "influx] api must be v1 or v2, got": "Set [influx] api to v1 or v2.",
    "influx v2 needs [influx] org and bucket": "Set [influx] org and bucket.",
    "influx v2 needs a token (secret [influx] token_secret": "Provide the token secret named by [influx] token_secret.",
    "telegram sendMessage failed: HTTP": "Check the bot token and chat_id; Telegram's answer is shown.",
    "telegram: [telegram] chat_id is empty": "Set [telegram] chat_id.",
    # limits at the boundary (issue 12)
    "JSON nested deeper than": "btcn artefacts nest a few levels; a document nested deeper than 64 levels is refused unread. Regenerate the file.",
    "invalid JSON number": "NaN, Infinity and integers of thousands of digits are not JSON numbers; regenerate the file.",
    "must be a finite positive number (at most 1e18), got": "The plan was edited by hand or damaged: make a fresh plan.",
    "plan: weights must list each of BTC_SPOT, BTC_PERP_LONG, BTC_PERP_SHORT once": "The plan's starting book is incomplete: make a fresh plan.",
    "a second order for the same leg": "The plan file was edited by hand; make a fresh plan.",
    "is not for this leg": "The plan file was edited by hand; make a fresh plan.",
    "contradicts action": "The plan file was edited by hand; make a fresh plan.",
    "venue_unit must be": "Spot orders are in BTC, perp orders in contracts: make a fresh plan.",
    "is not a multiple of the venue step": "Quantities must be on spot_spec.step_btc / perp_spec.step_contracts: make a fresh plan.",
    "does not match qty_venue": "A perp order's qty_btc must be qty_venue x multiplier_btc (spot: equal): make a fresh plan.",
    "limit price": "An order's limit lies further from P_ref than [guardrails] max_price_deviation plus the slippage: make a fresh plan.",
    "amount_usdt must be a finite positive number": "A transfer of the plan has no sane amount: make a fresh plan.",
    "is not a time between 2009-01-01 and tomorrow": "A row's time is before 2009 or in the future (a unit or digit error): fix the file.",
    "column": "A column of the Parquet file has the wrong type or empty values: regenerate the file.",
    "infinite": "A price or volume is infinite at that bar: the file is corrupt; re-download it.",
    "is not numeric": "Write the OHLCV columns as numbers (as `btcn fetch candles` does).",
    "funding rate is infinite": "Fix or drop the row.",
    "Parquet funding columns must be numbers (funding_time a timestamp or integer ms": "Write funding Parquet as `btcn fetch funding` does.",
    "funding_time or funding_rate is empty or not finite": "Every funding row needs a time and a finite rate; fix or drop the row.",
    "malformed CSV (a field over": "A field is longer than 128 KiB or a quote is not closed: the file is not a data file of btcn; fix it.",
    "unreadable CSV": "summary.csv is damaged; delete it and run `btcn report` to regenerate it.",
    "run.json": "A setting or result is NaN or infinite: fix the settings (btcn.toml refuses nan/inf).",
    "has empty values": "A time column has empty values: the run folder is damaged; re-run the backtest.",
    "is not a time between 2009 and 2100": "A time of the run folder is out of range: the file is damaged; re-run the backtest.",
    "nav_usdt is not a finite number at row": "equity.parquet holds a NaN or infinite NAV: the file is damaged; re-run the backtest.",
    "a run's NAV must stay positive": "A NAV of zero or less cannot be reported or audited: the file is damaged; re-run the backtest.",
    "expected": "The run folder's file has a column of the wrong type: it was not written by btcn; re-run the backtest.",
    "is not a whole number of ms": "A time column holds fractions or NaN: the file is damaged; re-run the backtest.",
    "holds an equity.parquet but no run.json: not a live history; nothing was written": "That folder holds a run (its run.json is missing): record the live history into a folder of its own.",
    "give a folder name (the current folder is not one": "Name the output folder (e.g. --out run/jan).",
    "contains the current folder; give a folder of its own": "btcn replaces the whole output folder: give a folder below the current one.",
    "is not empty and is not": "Choose a new folder, or pass --force (backtest, report) / --overwrite (sweep) to write btcn's files there; other files are kept.",
    "cannot write beside it": "btcn builds the new folder beside the old one: make the parent folder writable.",
    "which is a file": "A part of the path is a file: choose another path.",
    "not a btcn state store (no": "The file is an SQLite database of something else: check [state] path / --state.",
    # state / resources
    "cannot open state store": "The file is not a btcn state store (or is damaged); check [state] path / --state.",
    "is locked by another btcn process": "Another btcn command is writing the state store; retry when it is done.",
    "was written by a newer btcn (schema": "Upgrade btcn.",
    # live treasury, legging and deadlines (issue 11)
    "deadline passed": "Internal: Gate refused an order request for its x-gate-exptime deadline; btcn does not retry it and treats the order as never placed.",
    "deadline had passed: not placed": "The order request reached Gate after its x-gate-exptime deadline and was refused: it was not placed. btcn goes on (a PostOnly leg moves to the market phase); nothing to do unless it repeats (check the machine's clock and network latency, or raise [gate] request_expiry).",
    "plan: a realise order must close a perp position, not": "A realise order closes part of a perp position (CLOSE_SHORT or CLOSE_LONG); plan again with this btcn.",
    "cannot be performed: nothing was sent": "A transfer must go between two different wallets (spot and futures); plan again with this btcn.",
    "btcn sends one per leg": "A plan carries at most one rebalance order per leg and one realise order per perp leg; plan again with this btcn.",
    "USDT: the futures ledger does not show it but the balances moved by another amount": "btcn cannot tell whether a wallet transfer happened (someone else moved money, or funding was paid meanwhile). Compare the futures ledger (Gate: Futures → Transaction history, type transfer) and both wallets with the report; do not move the money by hand; re-run the same plan a minute later: once the ledger has shown no entry for 60 s, btcn trusts the ledger alone (no entry: the transfer never happened, and it is sent once).",
    "another btcn process is executing on": "Another `btcn execute --live` runs for this venue; wait for it (a killed one releases the lock).",
    "MB (stopped between two steps; no file was left half-written": "Give the command less data at once, or raise [watchdog] max_rss_mb.",
}


def area_of(path: str, line: int) -> int:
    for i, (_, prefixes, _) in enumerate(AREAS):
        for p in prefixes:
            if ":" in p:
                if p == f"{path}:{line}":
                    return i
            elif path.startswith(p):
                return i
    raise SystemExit(f"no area for {path}")


def main() -> None:
    rows: dict[int, dict[str, str]] = {}
    for path, line, _cls, text in messages():
        phrase = key_phrase(text)
        if len(phrase) < 4:
            continue  # a message passed through from elsewhere (pydantic, the venue): shown as is
        area = area_of(path, line)
        rows.setdefault(area, {}).setdefault(text, ADVICE.get(phrase, ""))
    out = []
    for i, (title, _, intro) in enumerate(AREAS):
        if i not in rows:
            continue
        out.append(f"### {title}\n\n{intro}\n\n| message | what to do |\n|---|---|")
        for text, advice in sorted(rows[i].items(), key=lambda kv: kv[0].lstrip("…: ").lower()):
            msg = text.replace("|", "\\|")
            tip = advice.replace("|", "\\|")
            out.append(f"| `{msg}` | {tip} |")
        out.append("")
    missing = [t for r in rows.values() for t, a in r.items() if not a]
    if missing:
        raise SystemExit("no advice for: " + "; ".join(missing))
    print("\n".join(out).rstrip())


if __name__ == "__main__":
    main()
