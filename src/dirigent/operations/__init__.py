"""Operations: what API routes, CLI commands and the UI call. Each operation lives in one place."""
