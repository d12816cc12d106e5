"""Follows and digests: Follow / Unfollow / Mute, the following list, the digest schedule and the
digest DM."""
