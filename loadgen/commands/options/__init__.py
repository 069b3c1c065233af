"""What the commands share: parsing and checking their options (`argtypes`,
`load_options`, `scale_options`, `server_sampling`) and their exit statuses
(`exitcode`). The commands themselves are the modules of `loadgen.commands`."""
