"""Per-area string catalogues, merged into kiosk.i18n_catalog.CATALOG (one module per area)."""
