"""The admins' pages for the people who sign in: list, invite, edit, deactivate, reset passwords."""
