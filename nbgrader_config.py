"""nbgrader configuration of the course-book (nbgrader 0.9).

The repository itself is the nbgrader course directory:

    solutions/chNN/chNN_exercises.ipynb   source (instructor) version: solutions + hidden tests
    exercises/chNN/chNN_exercises.ipynb   release (student) version, generated, never edited
    .nbgrader/                            submitted/, autograded/, feedback/, gradebook.db
                                          (git-ignored, local to whoever grades)

Everything is computed from this file's location, so nbgrader finds the same folders
whatever the current directory is, and a copy of this file in another folder (a
temporary course directory, as `tools/exercises.py` and the tests make) applies to
that folder. Prefer `python tools/exercises.py generate` (`make exercises`) over
calling `nbgrader generate_assignment` by hand: it works in a temporary course
directory with its own gradebook and normalises the result.

Grading students' submissions does not use this file: `make grade` / `cvbook-grade`
(cvbook.grading) builds its own temporary course from the source notebook, with the
same folders' roles and the same code stub, so that it works for an instructor who
installed only the package.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

ROOT = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(ROOT, ".nbgrader")  # git-ignored
os.makedirs(WORK, exist_ok=True)  # sqlite cannot create the folder of its database

c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = os.path.join(".nbgrader", "submitted")
c.CourseDirectory.autograded_directory = os.path.join(".nbgrader", "autograded")
c.CourseDirectory.feedback_directory = os.path.join(".nbgrader", "feedback")
c.CourseDirectory.solution_directory = os.path.join(".nbgrader", "solution")
c.CourseDirectory.source_with_tests_directory = os.path.join(".nbgrader", "source_with_tests")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(WORK, "gradebook.db")

# Files in solutions/chNN/ that must never reach the students' folder: the py:percent
# text pairs hold the full solutions and hidden tests; the rest is tooling debris.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*.py",
    "jupytext.toml",
    ".jupyter_cache",
    ".nbgrader",
    "*.db",
]

# What replaces each `### BEGIN SOLUTION` ... `### END SOLUTION` region (nbgrader's default).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding: seconds per cell (the first cell imports torch, slow on a cold disk).
c.Execute.timeout = 120
