"""What every command shares, kept small and stable: loading config.yaml (config), atomic outputs
(files), the errors a user can act on (errors) and running a command (command). dvc.yaml lists
this folder as a code dependency of every stage."""
