"""Mail and document templates shipped with mailbot; copy one into `templates_dir` to change it."""
