// placeholder: replaced by the fuzz target
print("MQTTFuzz")
