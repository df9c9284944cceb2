"""Receipt printer: ESC/POS codec, receipt layout and a driver over raw TCP or any pyserial URL."""
