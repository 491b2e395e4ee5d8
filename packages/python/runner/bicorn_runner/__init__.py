# The Python side of bicorn: the app process that a worker runs on frames over fd 3.
