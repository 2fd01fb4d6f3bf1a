"""``btcn audit``: KPIs against targets, drift proposals, and the Log.xlsx workbook."""
