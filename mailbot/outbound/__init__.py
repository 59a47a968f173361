"""Pure outbound rendering: effects to email messages and PDF bytes."""
