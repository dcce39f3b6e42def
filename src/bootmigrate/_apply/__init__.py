"""4. Running a plan: the boot, the runner, the executor, adoption."""
