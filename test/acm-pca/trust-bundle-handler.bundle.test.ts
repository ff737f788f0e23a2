// The trust bundle handler suite, driven against the shipped private-ca bundle in assets/ (see support/handler-under-test).
import '../support/bundle-tier';
import './trust-bundle-handler.test';
