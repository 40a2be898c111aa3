"""Practice that remembers: missed key points become review items scheduled with FSRS."""
