"""Pure domain: case states and transitions, commands, effects, pricing, calendar. Standard library only."""
