"""Claims and invitations: claiming a profile, admin review, the profile edit modal, inviting a
researcher to collaborate and answering an invitation."""
