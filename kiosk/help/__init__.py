"""Help on the kiosk: an offline FAQ assistant (BM25 retrieval) and "call staff" alerts for the branch."""
