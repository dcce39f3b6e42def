"""sessionstore: the local session store of an agent daemon, migrated by bootmigrate."""
