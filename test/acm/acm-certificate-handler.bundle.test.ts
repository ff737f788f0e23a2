// The acm-certificate handler suite, driven against the shipped bundle in assets/ (see support/handler-under-test).
import '../support/bundle-tier';
import './acm-certificate-handler.test';
