UPDATE user_settings SET advanced_providers = 1 WHERE id = 1;
