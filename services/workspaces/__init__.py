"""Who uses the bot: members (Slack users of a workspace), workspaces coming and going (an
uninstall parks, a reinstall restores), and forgetting a member on request."""
