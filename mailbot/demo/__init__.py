"""`mailbot demo`: the whole story (story.py) on embedded mail servers (servers.py), with no set-up."""
