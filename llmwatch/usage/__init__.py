"""What a call used and what it cost: provider-reported tokens, tokenizer estimates, prices."""
