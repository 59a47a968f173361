"""Pure inbound processing: raw bytes to parsed mail, screening, correlation, keywords."""
