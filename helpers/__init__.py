"""Shared code of the course: one small module per concern, each function named after the lesson that uses it."""

from helpers.errors import CourseError
from helpers.session import setup

__all__ = ["CourseError", "setup"]
