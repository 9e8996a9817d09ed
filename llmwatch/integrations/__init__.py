"""Framework integrations (LangChain, LlamaIndex), hooked by ``init()`` when the framework is imported."""
