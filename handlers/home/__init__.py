"""The App Home tab, which gathers each domain's section for the member."""
