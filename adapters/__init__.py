"""The platform layer: what talks to the storage account, the SDKs and the settings, below the activities."""
