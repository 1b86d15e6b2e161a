"""The directory service: offices, posts, users, postings, roles and delegations: who holds which post."""
