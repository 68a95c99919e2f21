"""The validating stage: request limits, K-12 safety, and whether a question has a topic.

``limits.parse_request`` turns raw fields into a ``VideoRequest`` (or ``InvalidRequest``);
``assess.QuestionValidator`` decides proceed, clarify or refuse for a parsed question.
"""
