"""Request and response models, split Base / Create / Public so that key material and raw
ID numbers exist only on the way in and can never be serialised on the way out."""
