from api.cli import main

# The route planner's process is spawned and imports the main module again: only the real one runs the CLI.
if __name__ == "__main__":
    raise SystemExit(main())
