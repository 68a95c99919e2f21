"""The lesson-quality harness: measures the lessons the offline writer makes, without Ray or video.

For each evaluation question it runs the pipeline's decision, retrieval, material check and
script writing, then measures the script (concept coverage, off-topic scenes, figure references,
fragments, titles, reading level, grounding, duration, captions, attribution) and the slides the
real renderer draws for it. docs/quality.md defines every metric.
"""
