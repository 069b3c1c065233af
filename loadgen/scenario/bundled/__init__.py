"""The scenarios shipped with loadgen: `wagon`, the default mix (`WagonMix`)."""
