"""Test doubles for behaviour that no program installed here can show.

Everything that a real server can demonstrate is tested against the real server
(`tests/harness`); a double lives here only when the behaviour belongs to a version
that cannot be run on this machine, and its docstring says where its facts come from.
"""
