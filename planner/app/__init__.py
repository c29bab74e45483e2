"""The application layer: the month's pipeline (`pipeline`) and `planner info` (`info`);
`planner.cli` is the thin command line on top."""
