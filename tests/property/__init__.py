"""Property tests (hypothesis) of the parsers that read text from outside: any input gives a result or the
documented error, and the outputs keep their safety invariants."""
