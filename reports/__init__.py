"""Report data (pandas roll-ups), rendering (WeasyPrint) and tabular exports."""
