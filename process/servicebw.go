// SPDX-License-Identifier: EUPL-1.2

package process

// ServiceBWProcessID is the process id of service-bw's generic process
// model (generischesProzessmodell.bpmn20.xml, Activiti dialect).
const ServiceBWProcessID = "m6000357.generischesProzessmodell"

// Implementation classes of service-bw's service tasks.
const (
	ServiceBWPdfClass     = "de.seitenbau.serviceportal.prozess.servicetask.PdfErstellenService"
	ServiceBWMessageClass = "de.seitenbau.serviceportal.prozess.servicetask.NachrichtAnMSBWService"
)

// ServiceBWActions is the documented action mapping for service-bw's
// generic model. Its Java delegates and Groovy scripts are never run:
//
//   - activiti:class PdfErstellenService (createPdfForAssignee,
//     createPdfForCaseWorker) → generate_notice; its fields source (the
//     form) and target (the variable to store the PDF in) are passed as
//     parameters.
//   - activiti:class NachrichtAnMSBWService (messages to applicant and
//     caseworker, approval and rejection notices) → send_to_mailbox with
//     the fields empfaengerId, betreff, text, senderId, anhaenge.
//   - scriptTask requiredParameters (sets the responsible caseworker and
//     the form title, REPLACE_ME placeholders in the original) →
//     set_variable responsibleCaseworkerId and nameOfForm, supplied here.
//   - scriptTask inputValidation (IBAN, postcode and age checks in Groovy)
//     → set_variable isFormValid = true: rathaus validates the answers
//     against the form model before they reach the process.
func ServiceBWActions(caseworkerID, formTitle string) ActionMap {
	return ActionMap{
		ServiceBWPdfClass:     {Action: ActionGenerateNotice},
		ServiceBWMessageClass: {Action: ActionSendToMailbox},
		"requiredParameters": {Action: ActionSetVariable, Params: map[string]string{
			"responsibleCaseworkerId": caseworkerID,
			"nameOfForm":              formTitle,
		}},
		"inputValidation": {Action: ActionSetVariable, Params: map[string]string{"isFormValid": "${true}"}},
	}
}
