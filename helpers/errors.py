"""One exception type for the mistakes a learner can make and fix."""


class CourseError(Exception):
    """A problem the learner can fix; the message is one sentence that says what to do (lesson 1)."""


def show_briefly(shell, etype, value, tb, tb_offset=None):
    """Print a CourseError as its one sentence instead of a long traceback (lesson 1)."""
    print(f"CourseError: {value}")
    return None
