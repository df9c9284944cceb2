"""The benchmark suite behind ``smart-teller bench``: one module per area, each with ``run(quick)``."""
