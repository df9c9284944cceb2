"""Camera: OpenCV ``VideoCapture`` driver (device index, file or MJPEG URL) with a frame watchdog."""
