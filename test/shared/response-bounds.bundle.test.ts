// The response-bounds checks, driven against the shipped bundles in assets/ (see support/handler-under-test).
import '../support/bundle-tier';
import './response-bounds.test';
