"""jobconsole's front ends: the click CLI and (soon) the Textual console, both on `core`."""
