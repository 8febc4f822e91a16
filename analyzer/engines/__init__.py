"""The engines that score texts: one module per runtime, the loader that picks one."""
