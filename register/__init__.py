"""The property register: organizations, projects, buildings, units, parties, occupancies, accounts and the
unit import. `policy` says who may see and change what; every write use case owns its unit of work.

Nothing is imported here, so that a caller of `register.projects` does not load the spreadsheet reader.
"""
