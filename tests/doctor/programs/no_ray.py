"""A program that never touches Ray."""

import sys

print("plain", sum(range(10)), sys.argv[1:])
