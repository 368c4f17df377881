"""Frames, below every camera and every user of one: a `Frame` (I420 planes, sensor timestamp, its
YUV range), the sim's frame code in the pixels, buffer pools, and the overlay drawing (the burned
frame number, the preview's info lines)."""
