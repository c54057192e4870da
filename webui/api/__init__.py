"""The versioned JSON API (/api/v1/): thin DRF views over scanner.services and scanner.selectors."""
