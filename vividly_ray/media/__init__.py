"""Slides, segments and the final video.

``slides`` draws one picture per distinct on-screen state, ``encoder`` turns a scene's pictures
into a video-only H.264 segment (cached by content), ``assemble`` joins segments by stream copy
with one AAC narration track, chapters, captions (``captions``) and a thumbnail. ``ffmpeg``
holds every command line as data; ``mp4`` reads durations back without ffprobe.
"""
