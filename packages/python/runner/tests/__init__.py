# unittest suite of the runner: python3 -m unittest discover -s tests -t . (from the runner dir).
